{{ config(order_by=['declaration_id', 'item_number']) }}
{#- One row per item of a declaration the ERP holds (int_import_declaration_items_taxed), with the figures that feed
    the landed cost: the official declaration's (the broker's DI XML / DUIMP JSON, staging/customs) wherever it has
    been delivered and its items pair with the ERP's, else the law's computation on the ERP's copy.
    The precedence (issue 15, point 4: the official declaration wins over the ERP when both exist), per declaration,
    never item by item (a declaration's Siscomex fee and its allocation need one source for all of its items):
    - `OFFICIAL_DECLARATION`: an official declaration exists and its items pair one to one with the ERP's: the same
      item numbers, each with the same NCM, and as many items on both sides. Customs value, the II, IPI, PIS and
      COFINS rates and amounts are the declaration's, and the Siscomex fee the Receita debited for it
      (`declared_siscomex_fee_total_brl`, taxes_paid); the ICMS and the CBS/IBS downstream are computed on them;
    - `ERP`: no official declaration yet (`official_match_status` NO_OFFICIAL_DECLARATION), or its items do not
      pair with the ERP's (ITEM_MISMATCH, with `official_match_reason` naming each item that does not): the law's
      computation on the ERP's copy, as before. A mismatch is never joined silently: fct_customs_reconciliation
      reports it.
    The official contract carries no Imposto Seletivo (nor quantity): the IS stays the law's computation on the
    ERP's copy. `law_*` keep the law's amounts (not its rates) for every row, the ERP's own figures stay in `erp_*`. -#}
{%- set winning = [
    'customs_value_brl', 'ii_rate_pct', 'ii_brl', 'ipi_rate_pct', 'ipi_brl', 'pis_rate_pct', 'pis_brl',
    'cofins_rate_pct', 'cofins_brl'
] -%}

with

taxed as (

    select * from {{ ref('int_import_declaration_items_taxed') }}

),

official as (

    -- Nullable before the LEFT JOIN, so a declaration without its official counterpart gets NULL, not ''
    select
        declaration_id as official_declaration_id,
        cast(declaration_version as Nullable(Int32)) as official_version
    from {{ ref('stg_customs__declarations') }}

),

official_items as (

    select
        declaration_id as official_declaration_id,
        item_number as official_item_number,
        cast(ncm as Nullable(String)) as declared_ncm,
        {%- for field in winning %}
        cast({{ field }} as Nullable(Decimal({{ '38, 8' if field.endswith('_pct') else '18, 4' }})))
            as declared_{{ field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_customs__items') }}

),

official_item_counts as (

    select declaration_id as official_declaration_id, count() as official_item_count
    from {{ ref('stg_customs__items') }}
    group by declaration_id

),

official_fees as (

    -- the Siscomex fee the Receita debited for the declaration; NULL when the declaration lists no such payment
    select
        declaration_id as official_declaration_id,
        cast(if(countIf(tax = 'SISCOMEX_FEE') > 0, sumIf(amount_brl, tax = 'SISCOMEX_FEE'), null)
            as Nullable(Decimal(18, 4))) as declared_siscomex_fee_total_brl
    from {{ ref('stg_customs__taxes_paid') }}
    group by declaration_id

),

paired as (

    select
        taxed.*,
        official.official_version as official_version,
        official_items.declared_ncm as declared_ncm,
        {%- for field in winning %}
        official_items.declared_{{ field }} as declared_{{ field }},
        {%- endfor %}
        cast(official.official_version is not null as Bool) as has_official_declaration,
        official_items.declared_ncm is not null and official_items.declared_ncm = taxed.ncm as item_pairs,
        multiIf(
            official.official_version is null, '',
            official_items.declared_ncm is null,
            concat('ERP item ', toString(taxed.item_number), ' is not in the declaration'),
            official_items.declared_ncm != taxed.ncm,
            concat('item ', toString(taxed.item_number), ': NCM ', taxed.ncm, ' in the ERP, ',
                official_items.declared_ncm, ' in the declaration'),
            ''
        ) as item_problem,
        coalesce(official_item_counts.official_item_count, 0) as official_item_count
    from taxed
    left join official on official.official_declaration_id = taxed.declaration_id
    left join official_items
        on official_items.official_declaration_id = taxed.declaration_id
        and official_items.official_item_number = taxed.item_number
    left join official_item_counts on official_item_counts.official_declaration_id = taxed.declaration_id

),

declaration_matches as (

    select
        declaration_id as match_declaration_id,
        multiIf(
            not any(has_official_declaration), 'NO_OFFICIAL_DECLARATION',
            countIf(item_pairs) = count() and any(official_item_count) = count(), 'MATCHED',
            'ITEM_MISMATCH'
        ) as official_match_status,
        multiIf(
            official_match_status = 'NO_OFFICIAL_DECLARATION', 'no official declaration delivered yet',
            official_match_status = 'MATCHED',
            concat('the declaration''s ', toString(count()), ' items pair with the ERP''s by item number and NCM'),
            arrayStringConcat(
                arrayFilter(
                    problem -> problem != '',
                    arrayConcat(
                        arraySort(groupArray(item_problem)),
                        [if(any(official_item_count) != count(),
                            concat('the declaration has ', toString(any(official_item_count)), ' items, the ERP ',
                                toString(count())),
                            '')]
                    )
                ),
                '; '
            )
        ) as official_match_reason
    from paired
    group by declaration_id

),

sourced as (

    select
        paired.*,
        {%- for field in winning %}
        paired.{{ field }} as law_{{ field }},
        {%- endfor %}
        declaration_matches.official_match_status = 'MATCHED' as official_wins,
        cast(if(official_wins, 'OFFICIAL_DECLARATION', 'ERP') as LowCardinality(String)) as declaration_source,
        cast(declaration_matches.official_match_status as LowCardinality(String)) as official_match_status,
        cast(declaration_matches.official_match_reason as String) as official_match_reason,
        cast(if(official_wins, official_fees.declared_siscomex_fee_total_brl, null) as Nullable(Decimal(18, 4)))
            as declared_siscomex_fee_total_brl
    from paired
    inner join declaration_matches on declaration_matches.match_declaration_id = paired.declaration_id
    left join official_fees on official_fees.official_declaration_id = paired.declaration_id

),

final as (

    -- the taxed item's columns with the winning figures in place of the law's (kept in `law_*`), then the source,
    -- the match, the official item of the same number (`declared_*`, whether or not it pairs) and the law's figures
    select
        * except (
            item_pairs, item_problem, official_item_count, official_wins
            {%- for field in winning if field.endswith('_pct') %}, declared_{{ field }}, law_{{ field }}{% endfor %}
        )
        replace (
            {%- for field in winning %}
            cast(if(official_wins, declared_{{ field }}, law_{{ field }})
                as Nullable(Decimal({{ '38, 8' if field.endswith('_pct') else '18, 4' }}))) as {{ field }}
                {{- ',' if not loop.last }}
            {%- endfor %}
        )
    from sourced

)

select * from final
