{#- The body of every `staging/ml` view: the rows of `ml.<table_name>` scored by the latest model version (the
    version of the most recent scoring run); rows of older versions, kept by earlier batches, are left out. -#}
{% macro ml_latest_version_scores(table_name) -%}
with

scores as (

    select * from {{ ml_scores_relation(table_name) }}

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
{%- endmacro %}
