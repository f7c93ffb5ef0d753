{#- One row per row of ml.fx_forecast__scores scored by the latest model version: the view is the macro
    ml_latest_version_scores (macros/ml_latest_version_scores.sql). -#}
{{ ml_latest_version_scores('fx_forecast__scores') }}
