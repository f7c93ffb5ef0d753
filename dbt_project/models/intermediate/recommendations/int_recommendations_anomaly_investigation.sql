{{ config(order_by=['action_code', 'subject_id']) }}
{#- One row per bank movement to investigate: the `anomaly_top_k` most anomalous posted movements of the last
    `lookback_days` up to the as-of date, among those the transaction-anomaly model flags. The effect is the amount
    at stake: the movement's absolute BRL amount as the expected effect and the high end (an error or a fraud
    recovered in full), zero as the low end (nothing wrong). The model's precision@k, i.e. how often its top
    movements are real anomalies, is in its MLflow run, not here. -#}
{%- set top_k = var('anomaly_top_k') %}
{%- set lookback_days = 30 %}
{%- set valid_days = 7 %}

with

as_of as (

    select * from {{ ref('int_recommendations_as_of') }}

),

anomaly_scores as (

    select * from {{ ref('stg_ml__transaction_anomaly_scores') }}

),

transactions as (

    select * from {{ ref('stg_bank__transactions') }}

),

posted as (

    select
        transaction_id,
        institution,
        account_id,
        booking_date,
        credit_debit_type,
        transaction_name,
        amount,
        partie_cnpj_cpf
    from transactions
    where status = 'TRANSACAO_EFETIVADA' and currency = 'BRL'

),

flagged as (

    select
        anomaly_scores.bank_transaction_id as bank_transaction_id,
        anomaly_scores.anomaly_score as anomaly_score,
        anomaly_scores.model_name as model_name,
        anomaly_scores.model_version as model_version,
        anomaly_scores.model_kind as model_kind,
        posted.institution as institution,
        posted.account_id as account_id,
        posted.booking_date as booking_date,
        posted.credit_debit_type as credit_debit_type,
        posted.transaction_name as transaction_name,
        posted.amount as amount,
        posted.partie_cnpj_cpf as counterparty_tax_id
    from anomaly_scores
    inner join posted on posted.transaction_id = anomaly_scores.bank_transaction_id
    cross join as_of
    where
        anomaly_scores.is_anomaly
        and posted.booking_date <= as_of.as_of_date
        and posted.booking_date > as_of.as_of_date - {{ lookback_days }}

),

ranked as (

    select
        flagged.*,
        row_number() over (order by anomaly_score desc, bank_transaction_id) as anomaly_rank
    from flagged

),

final as (

    select
        cast('anomaly_investigation' as String) as recommendation_type,
        cast('investigate' as String) as action_code,
        cast('bank_transaction' as String) as subject_type,
        cast(bank_transaction_id as String) as subject_id,
        as_of.as_of_date as as_of_date,
        concat(
            'Investigate bank movement ', bank_transaction_id, ' of ', toString(booking_date), ' (', institution,
            ' account ', account_id, ', ', if(credit_debit_type = 'CREDITO', 'credit', 'debit'), ' of R$ ',
            {{ money_text('amount') }}, ', "', transaction_name, '"',
            if(counterparty_tax_id is null, '', concat(', counterparty ', assumeNotNull(counterparty_tax_id))),
            '): number ', toString(anomaly_rank), ' of the ', toString({{ lookback_days }}),
            '-day window by anomaly score (', toString(round(anomaly_score, 3)),
            '). Check it against its ERP document and the bank statement; R$ ', {{ money_text('amount') }},
            ' is at stake.'
        ) as action,
        cast(amount as Decimal(18, 4)) as expected_effect_brl,
        cast(0 as Decimal(18, 4)) as effect_low_brl,
        cast(amount as Decimal(18, 4)) as effect_high_brl,
        {{ json_object([
            ('models', "concat('[', " ~ json_object([
                ('name', 'model_name'), ('version', 'model_version'), ('kind', 'model_kind')
            ]) ~ ", ']')"),
            ('inputs', json_object([
                ('bank_transaction_id', 'bank_transaction_id'),
                ('institution', 'institution'),
                ('account_id', 'account_id'),
                ('booking_date', 'booking_date'),
                ('credit_debit_type', 'credit_debit_type'),
                ('amount_brl', 'amount'),
                ('transaction_name', 'transaction_name'),
                ('counterparty_tax_id', 'counterparty_tax_id'),
                ('anomaly_score', 'anomaly_score'),
                ('anomaly_rank', 'anomaly_rank'),
                ('lookback_days', lookback_days | string),
            ])),
        ], raw_keys=['models', 'inputs']) }} as evidence,
        cast(as_of.as_of_date + {{ valid_days }} as Date) as expires_on,
        cast(if(anomaly_rank <= 3, 1, 2) as UInt8) as priority
    from ranked
    cross join as_of
    where anomaly_rank <= {{ top_k }}

)

select * from final
