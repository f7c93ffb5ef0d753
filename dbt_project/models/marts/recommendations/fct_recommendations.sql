{{ config(order_by=['recommendation_type', 'priority', 'subject_id']) }}

{#- One row per actionable recommendation as of the data's as-of date: the union of one intermediate view per
    recommendation type (models/intermediate/recommendations), each with its action, expected BRL effect and
    range, evidence (model names and versions, input values) and expiry. `recommendation_id` is a deterministic
    hash of type, subject and as-of date, so the same recommendation keeps its id across rebuilds. The table is
    rebuilt whole each run: it holds the recommendations of the latest as-of date only. -#}

with

fx_payment_timing as (

    select * from {{ ref('int_recommendations_fx_payment_timing') }}

),

fx_exposure_limit as (

    select * from {{ ref('int_recommendations_fx_exposure_limit') }}

),

single_source_risk as (

    select * from {{ ref('int_recommendations_single_source_risk') }}

),

declaration_timing as (

    select * from {{ ref('int_recommendations_declaration_timing') }}

),

anomaly_investigation as (

    select * from {{ ref('int_recommendations_anomaly_investigation') }}

),

tax_regime_timing as (

    select * from {{ ref('int_recommendations_tax_regime_timing') }}

),

unioned as (

    select * from fx_payment_timing
    union all
    select * from fx_exposure_limit
    union all
    select * from single_source_risk
    union all
    select * from declaration_timing
    union all
    select * from anomaly_investigation
    union all
    select * from tax_regime_timing

),

final as (

    select
        lower(hex(MD5(concat(recommendation_type, '|', subject_type, '|', subject_id, '|', toString(as_of_date)))))
            as recommendation_id,
        cast(recommendation_type as LowCardinality(String)) as recommendation_type,
        cast(action_code as LowCardinality(String)) as action_code,
        cast(subject_type as LowCardinality(String)) as subject_type,
        subject_id,
        as_of_date,
        -- a NULL sentence or evidence would fail this cast loudly rather than load
        cast(action as String) as action,
        cast(expected_effect_brl as Decimal(18, 4)) as expected_effect_brl,
        cast(effect_low_brl as Decimal(18, 4)) as effect_low_brl,
        cast(effect_high_brl as Decimal(18, 4)) as effect_high_brl,
        cast(evidence as String) as evidence,
        expires_on,
        priority
    from unioned

)

select * from final
