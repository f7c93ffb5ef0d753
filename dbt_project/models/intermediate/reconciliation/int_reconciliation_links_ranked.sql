{#- One thread: split over threads, each of the chain's 19 window steps scatters its input by partition and
    sorts it again per thread, and the query took 1.2 GiB instead of 0.5 GiB (and longer) at scale 30 (README.md). -#}
{{ config(
    materialized='table',
    order_by=['match_rule', 'bank_movement_key', 'erp_document_key'],
    query_settings={'max_threads': 1},
) }}
{#- The accepted links, one row per (bank movement, ERP document) pair, the rules applied in order of strength:
    a later rule only sees the movements and documents the earlier rules left free (README.md).
    1-2 reference rules keep every pair (an FX contract's principal, IOF and fee all settle its payables);
    3 duplicates claim their movements only, never the document (already settled by its own contract);
    4-5 amount rules pair one movement with one document: each movement ranks its candidates and each document
      its candidates (highest confidence, closest date, then key); a pair is kept when both ranks are equal and it
      is the lowest such rank of its movement and of its document. Mutual best pairs have ranks 1 = 1, and k equal
      candidates (same amount, counterparty and date) pair off 1-1, 2-2, ..., k-k instead of leaving k - 1 unmatched;
    6-9 combinations keep a whole combination when all its members are free and it is the first choice of each;
    10 the name rule pairs what is left one to one, as 4-5 do.
    One linear chain of steps over one union of candidates: every step reads the previous one once. -#}
with

fx_contract as (

    select * from {{ ref('int_reconciliation_candidates_fx_contract') }}

),

customs as (

    select * from {{ ref('int_reconciliation_candidates_customs') }}

),

duplicate_fx as (

    select * from {{ ref('int_reconciliation_candidates_duplicate_fx') }}

),

exact_amount as (

    select * from {{ ref('int_reconciliation_candidates_exact_amount') }}

),

amount_tolerance as (

    select * from {{ ref('int_reconciliation_candidates_amount_tolerance') }}

),

combinations as (

    select * from {{ ref('int_reconciliation_candidates_combinations') }}

),

three_way as (

    select * from {{ ref('int_reconciliation_candidates_three_way') }}

),

batch as (

    select * from {{ ref('int_reconciliation_candidates_batch') }}

),

counterparty_name as (

    select * from {{ ref('int_reconciliation_candidates_counterparty_name') }}

),

candidates as (

    select * from fx_contract
    union all
    select * from customs
    union all
    select * from duplicate_fx
    union all
    select * from exact_amount
    union all
    select * from amount_tolerance
    union all
    select * from combinations
    union all
    select * from three_way
    union all
    select * from batch
    union all
    select * from counterparty_name

),

claimed_by_reference as (

    -- rules 1-3 claim their movements, rules 1-2 their documents
    select
        *,
        max(rule_priority <= 3) over (partition by bank_movement_key) as is_movement_claimed,
        max(rule_priority <= 2) over (partition by erp_document_key) as is_document_claimed,
        count() over (partition by match_group_id) as group_size
    from candidates

),
{% for rule_priority, previous in [(4, 'claimed_by_reference'), (5, 'claimed_by_rule_4'), (10, 'claimed_by_combinations')] %}
{%- if rule_priority == 10 %}

free_combinations as (

    -- the combinations none of whose members an earlier rule claimed (all its rows are still here)
    select * except (is_movement_claimed, is_document_claimed)
    from claimed_by_rule_5
    where rule_priority < 6 or not (is_movement_claimed or is_document_claimed)

),

complete_combinations as (

    select *
    from (
        select
            *,
            count() over (partition by match_group_id) as members_left
        from free_combinations
    )
    where rule_priority not between 6 and 9 or members_left = group_size

),

combinations_ranked as (

    -- each movement and each document ranks the combinations it is in (pairs before triples before batches)
    select
        *,
        if(
            rule_priority between 6 and 9,
            dense_rank() over (
                partition by bank_movement_key, rule_priority between 6 and 9
                order by rule_priority, confidence desc, match_group_id
            ),
            1
        ) as movement_choice,
        if(
            rule_priority between 6 and 9,
            dense_rank() over (
                partition by erp_document_key, rule_priority between 6 and 9
                order by rule_priority, confidence desc, match_group_id
            ),
            1
        ) as document_choice
    from complete_combinations

),

chosen as (

    -- a combination stays when it is the first choice of every member
    select * except (members_left, movement_choice, document_choice, worst_choice)
    from (
        select
            *,
            max(greatest(movement_choice, document_choice)) over (partition by match_group_id) as worst_choice
        from combinations_ranked
    )
    where worst_choice = 1

),

claimed_by_combinations as (

    select
        *,
        max(rule_priority between 6 and 9) over (partition by bank_movement_key) as is_movement_claimed,
        max(rule_priority between 6 and 9) over (partition by erp_document_key) as is_document_claimed
    from chosen

),
{%- endif %}

ranked_for_rule_{{ rule_priority }} as (

    select
        * except (is_movement_claimed, is_document_claimed),
        if(
            rule_priority = {{ rule_priority }},
            row_number() over (
                partition by bank_movement_key, rule_priority
                order by confidence desc, abs(date_difference_days), erp_document_key
            ),
            0
        ) as movement_rank,
        if(
            rule_priority = {{ rule_priority }},
            row_number() over (
                partition by erp_document_key, rule_priority
                order by confidence desc, abs(date_difference_days), bank_movement_key
            ),
            0
        ) as document_rank
    from {{ previous }}
    -- the candidates of this and later rules lose what an earlier rule claimed
    where rule_priority < {{ rule_priority }} or not (is_movement_claimed or is_document_claimed)

),

paired_by_rule_{{ rule_priority }} as (

    select
        * except (movement_rank, document_rank, lowest_movement_rank, lowest_document_rank),
        rule_priority = {{ rule_priority }}
        and movement_rank = document_rank
        and movement_rank = lowest_movement_rank
        and movement_rank = lowest_document_rank as is_paired
    from (
        select
            *,
            min(if(movement_rank = document_rank, movement_rank, 999999)) over (
                partition by bank_movement_key, rule_priority
            ) as lowest_movement_rank,
            min(if(movement_rank = document_rank, document_rank, 999999)) over (
                partition by erp_document_key, rule_priority
            ) as lowest_document_rank
        from ranked_for_rule_{{ rule_priority }}
    )

),

claimed_by_rule_{{ rule_priority }} as (

    select
        * except (is_paired),
        max(is_paired) over (partition by bank_movement_key) as is_movement_claimed,
        max(is_paired) over (partition by erp_document_key) as is_document_claimed
    from paired_by_rule_{{ rule_priority }}
    -- this rule keeps only its pairs
    where rule_priority != {{ rule_priority }} or is_paired

),
{% endfor %}

final as (

    select
        {{ reconciliation_link_columns() | join(',\n        ') }}
    from claimed_by_rule_10

)

select * from final
