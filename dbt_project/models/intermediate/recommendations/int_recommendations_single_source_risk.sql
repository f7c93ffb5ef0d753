{{ config(order_by=['action_code', 'subject_id']) }}
{#- One row per product bought from a single supplier (the supplier-product graph of live purchase orders,
    int_supplier_skus_aggregated) whose supplier is a delay risk: the supplier-delay model's late probability,
    averaged over the supplier's scored open shipments, is at least `delay_risk_threshold`. The action is to
    qualify a second source; the candidates come from the same graph, two hops away: the other live suppliers
    that already sell a product of the same NCM heading (its first 4 digits), best on-time record first.
    Effect: the BRL value of an average order line of this product from this supplier x the probability it is
    late (the value a second source protects per order), from the lowest to the highest shipment probability. -#}
{%- set threshold = var('delay_risk_threshold') %}
{%- set max_alternatives = 3 %}
{%- set valid_days = 7 %}

with

as_of as (

    select * from {{ ref('int_recommendations_as_of') }}

),

delay_scores as (

    select * from {{ ref('stg_ml__supplier_delay_scores') }}

),

supplier_skus as (

    select * from {{ ref('int_supplier_skus_aggregated') }}

),

suppliers as (

    select * from {{ ref('int_suppliers_aggregated') }}

),

products as (

    select * from {{ ref('stg_erp__products') }}

),

latest_scores as (

    -- the latest scoring day on or before the as-of date
    select delay_scores.*
    from delay_scores  -- noqa: AL04
    cross join as_of  -- noqa: AL04
    where
        delay_scores.as_of_date = (
            select max(delay_scores.as_of_date) from delay_scores cross join as_of
            where delay_scores.as_of_date <= as_of.as_of_date
        )

),

supplier_risk as (

    select
        supplier_id,
        avg(late_probability) as mean_probability,
        min(late_probability) as min_probability,
        max(late_probability) as max_probability,
        count() as scored_shipments,
        any(as_of_date) as scored_as_of_date,
        any(model_name) as model_name,
        any(model_version) as model_version,
        any(model_kind) as model_kind
    from latest_scores
    group by supplier_id

),

headings as (

    select sku, product_description, substring(ncm, 1, 4) as ncm_heading
    from products
    where not is_deleted

),

single_sourced as (

    select
        supplier_skus.supplier_id as supplier_id,
        supplier_skus.sku as sku,
        headings.product_description as product_description,
        headings.ncm_heading as ncm_heading,
        supplier_skus.line_count as line_count,
        supplier_skus.fob_brl as fob_brl,
        supplier_skus.fob_brl / supplier_skus.line_count as avg_line_brl,
        supplier_risk.mean_probability as mean_probability,
        supplier_risk.min_probability as min_probability,
        supplier_risk.max_probability as max_probability,
        supplier_risk.scored_shipments as scored_shipments,
        supplier_risk.scored_as_of_date as scored_as_of_date,
        supplier_risk.model_name as model_name,
        supplier_risk.model_version as model_version,
        supplier_risk.model_kind as model_kind
    from supplier_skus
    inner join supplier_risk on supplier_risk.supplier_id = supplier_skus.supplier_id
    inner join headings on headings.sku = supplier_skus.sku
    where
        supplier_skus.sku_supplier_count = 1
        and supplier_skus.line_count > 0
        and supplier_risk.mean_probability >= {{ threshold }}

),

heading_suppliers as (

    -- every live supplier of each NCM heading, with its delivery record
    select
        headings.ncm_heading as ncm_heading,
        supplier_skus.supplier_id as supplier_id,
        any(suppliers.on_time_rate_pct) as on_time_rate_pct,
        sum(supplier_skus.fob_brl) as heading_fob_brl
    from supplier_skus
    inner join headings on headings.sku = supplier_skus.sku
    inner join suppliers on suppliers.supplier_id = supplier_skus.supplier_id
    where not suppliers.is_deleted
    group by headings.ncm_heading, supplier_skus.supplier_id

),

alternatives as (

    select
        single_sourced.supplier_id as supplier_id,
        single_sourced.sku as sku,
        arraySlice(
            arrayMap(
                x -> x.2,
                arraySort(
                    x -> (x.1, x.2),
                    groupArray((
                        -- best on-time record first (none measured last), then the supplier id
                        -coalesce(heading_suppliers.on_time_rate_pct, -1),
                        concat(
                            heading_suppliers.supplier_id,
                            if(
                                heading_suppliers.on_time_rate_pct is null,
                                '',
                                concat(' (', toDecimalString(round(assumeNotNull(heading_suppliers.on_time_rate_pct), 1), 1), '% on time)')
                            )
                        )
                    ))
                )
            ),
            1,
            {{ max_alternatives }}
        ) as candidates
    from single_sourced
    inner join heading_suppliers
        on heading_suppliers.ncm_heading = single_sourced.ncm_heading
        and heading_suppliers.supplier_id != single_sourced.supplier_id
    group by single_sourced.supplier_id, single_sourced.sku

),

effects as (

    select
        single_sourced.supplier_id as supplier_id,
        single_sourced.sku as sku,
        single_sourced.product_description as product_description,
        single_sourced.ncm_heading as ncm_heading,
        single_sourced.line_count as line_count,
        single_sourced.avg_line_brl as avg_line_brl,
        single_sourced.mean_probability as mean_probability,
        single_sourced.min_probability as min_probability,
        single_sourced.max_probability as max_probability,
        single_sourced.scored_shipments as scored_shipments,
        single_sourced.scored_as_of_date as scored_as_of_date,
        single_sourced.model_name as model_name,
        single_sourced.model_version as model_version,
        single_sourced.model_kind as model_kind,
        coalesce(alternatives.candidates, []) as candidates,
        round(single_sourced.avg_line_brl * toDecimal128(single_sourced.mean_probability, 8), 2) as expected_effect,
        round(single_sourced.avg_line_brl * toDecimal128(single_sourced.min_probability, 8), 2) as effect_low,
        round(single_sourced.avg_line_brl * toDecimal128(single_sourced.max_probability, 8), 2) as effect_high
    from single_sourced
    left join alternatives
        on alternatives.supplier_id = single_sourced.supplier_id and alternatives.sku = single_sourced.sku

),

final as (

    select
        cast('single_source_risk' as String) as recommendation_type,
        cast('diversify_supplier' as String) as action_code,
        cast('product' as String) as subject_type,
        cast(effects.sku as String) as subject_id,
        as_of.as_of_date as as_of_date,
        concat(
            'Product ', effects.sku, ' (', effects.product_description, ') is bought only from supplier ',
            effects.supplier_id, ', whose ', toString(scored_shipments), ' open shipment(s) are late with probability ',
            toString(round(mean_probability, 2)), ' on average (', toString(round(min_probability, 2)), ' to ',
            toString(round(max_probability, 2)), '). Qualify a second source',
            if(
                empty(candidates),
                concat(': no other supplier sells a product of NCM heading ', ncm_heading, ' yet, so look for a new one'),
                concat(
                    ': ', arrayStringConcat(candidates, ', '), ' already sell(s) NCM heading ', ncm_heading
                )
            ),
            '. An average order line of it is worth R$ ', {{ money_text('avg_line_brl') }},
            '; the value expected late per order is R$ ', {{ money_text('expected_effect') }},
            ' (R$ ', {{ money_text('effect_low') }}, ' to R$ ', {{ money_text('effect_high') }}, ').'
        ) as action,
        cast(expected_effect as Decimal(18, 4)) as expected_effect_brl,
        cast(effect_low as Decimal(18, 4)) as effect_low_brl,
        cast(effect_high as Decimal(18, 4)) as effect_high_brl,
        {{ json_object([
            ('models', "concat('[', " ~ json_object([
                ('name', 'model_name'), ('version', 'model_version'), ('kind', 'model_kind')
            ]) ~ ", ']')"),
            ('inputs', json_object([
                ('sku', 'effects.sku'),
                ('supplier_id', 'effects.supplier_id'),
                ('ncm_heading', 'ncm_heading'),
                ('order_lines', 'line_count'),
                ('avg_order_line_brl', 'avg_line_brl'),
                ('scored_as_of_date', 'scored_as_of_date'),
                ('scored_open_shipments', 'scored_shipments'),
                ('mean_late_probability', 'mean_probability'),
                ('min_late_probability', 'min_probability'),
                ('max_late_probability', 'max_probability'),
                ('delay_risk_threshold', threshold | string),
                ('alternative_suppliers', 'candidates'),
            ])),
        ], raw_keys=['models', 'inputs']) }} as evidence,
        cast(as_of.as_of_date + {{ valid_days }} as Date) as expires_on,
        cast(2 as UInt8) as priority
    from effects
    cross join as_of

)

select * from final
