{#- One row per row of ml.transaction_anomaly__scores scored by the latest model version (the version of the most recent
    scoring run); rows of older versions, kept by earlier batches, are left out. -#}

with

scores as (

    select * from {{ ml_scores_relation('transaction_anomaly__scores') }}

),

latest_version as (

    select argMax(model_version, scored_at) as model_version from scores

),

final as (

    select scores.*
    from scores
    where scores.model_version = (select model_version from latest_version)

)

select * from final
