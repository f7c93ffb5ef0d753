{#- The last CTEs of a unified bank movement model: of the rows of different sources matched as one movement
    (`matched`, one `movement_match_key` per movement), the row that wins (`prefer` first: a posted or billed row
    beats another, then the source first in precedence, then its ids, so a tie cannot depend on read order), with
    `other_source_transaction_ids` naming the others ('<source>:<transaction_id>', sorted). `helper_columns` are
    the matching's own columns, left out. The model ends with `select * from final`. Used by stg_bank__transactions
    and stg_bank__credit_card_transactions. -#}
{% macro bank_movement_winner(prefer, source_account, helper_columns) %}
seen_by as (

    select
        movement_match_key as seen_match_key,
        groupArray((source_precedence, bank_source, transaction_id)) as seen
    from matched
    group by movement_match_key

),

first_in_precedence as (

    select *
    from matched
    order by
        movement_match_key,
        {{ prefer }} desc,
        source_precedence,
        source_institution,
        {{ source_account }},
        transaction_id
    limit 1 by movement_match_key

),

final as (

    select
        first_in_precedence.* except (source_precedence, {{ helper_columns | join(', ') }}),
        cast(
            arrayMap(
                row -> concat(row.2, ':', row.3),
                arraySort(arrayFilter(row -> row.2 != first_in_precedence.bank_source, seen_by.seen))
            ) as Array(String)
        ) as other_source_transaction_ids
    from first_in_precedence
    inner join seen_by on first_in_precedence.movement_match_key = seen_by.seen_match_key

)
{% endmacro %}
