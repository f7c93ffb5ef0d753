{#- One row per shipment of a live purchase order: its route, season and size, the delay history of its supplier
    and route as known on its departure day (ETD), and its outcome (late or not) once known. Point in time: a
    past shipment counts in the history only if its outcome was known BEFORE this shipment departed (it arrived,
    or its ETA plus the grace days had passed without arrival). -#}
{{ config(order_by=['shipment_id']) }}

{%- set grace_days = var('ml_supplier_delay_grace_days', 2) %}
{%- set prior_weight = 5 %}

with

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

live_shipments as (

    select
        shipments.shipment_id as shipment_id,
        purchase_orders.supplier_id as supplier_id,
        shipments.po_id as po_id,
        shipments.transport_mode as transport_mode,
        shipments.origin_country as origin_country,
        shipments.customs_unit as customs_unit,
        purchase_orders.incoterm as incoterm,
        purchase_orders.order_date as order_date,
        shipments.etd as etd,
        shipments.eta as eta,
        shipments.actual_arrival as actual_arrival,
        shipments.gross_weight_kg as gross_weight_kg
    from shipments
    inner join purchase_orders on shipments.po_id = purchase_orders.po_id
    where
        not shipments.is_deleted
        and not purchase_orders.is_deleted
        and purchase_orders.status != 'CANCELLED'

),

snapshot as (

    -- the day the ERP extract reflects: the latest change to any shipment, São Paulo date
    select max(toDate(updated_at, 'America/Sao_Paulo')) as data_as_of
    from shipments

),

outcomes as (

    -- late = arrived more than `grace_days` after the ETA; an unarrived shipment past ETA + grace is late too
    select
        live_shipments.*,
        snapshot.data_as_of as data_as_of,
        cast(dateDiff('day', eta, actual_arrival) as Nullable(Int32)) as arrival_delay_days,
        cast(multiIf(
            actual_arrival is not null, actual_arrival > eta + {{ grace_days }},
            snapshot.data_as_of > eta + {{ grace_days }}, true,
            null
        ) as Nullable(Bool)) as is_late,
        cast(multiIf(
            actual_arrival is not null, actual_arrival,
            snapshot.data_as_of > eta + {{ grace_days }}, eta + {{ grace_days }} + 1,
            null
        ) as Nullable(Date)) as label_known_date
    from live_shipments
    cross join snapshot

),

known_outcomes as (

    select
        shipment_id as past_shipment_id,
        supplier_id,
        origin_country,
        transport_mode,
        assumeNotNull(label_known_date) as known_date,
        assumeNotNull(is_late) as was_late,
        arrival_delay_days
    from outcomes
    where label_known_date is not null

),

overall_prior as (

    -- every outcome known before the departure: the prior the per-supplier and per-route rates shrink towards
    select
        outcomes.shipment_id as overall_shipment_id,
        cast(count() as Nullable(UInt64)) as prior_shipments,
        cast(countIf(known_outcomes.was_late) as Nullable(UInt64)) as prior_late
    from outcomes
    cross join known_outcomes
    where known_outcomes.known_date < outcomes.etd
    group by outcomes.shipment_id

),

supplier_prior as (

    select
        outcomes.shipment_id as supplier_shipment_id,
        cast(count() as Nullable(UInt64)) as prior_shipments,
        cast(countIf(known_outcomes.was_late) as Nullable(UInt64)) as prior_late,
        cast(avgOrNullIf(known_outcomes.arrival_delay_days, known_outcomes.arrival_delay_days is not null)
            as Nullable(Float64)) as prior_mean_delay_days
    from outcomes
    inner join known_outcomes on outcomes.supplier_id = known_outcomes.supplier_id
    where known_outcomes.known_date < outcomes.etd
    group by outcomes.shipment_id

),

route_prior as (

    select
        outcomes.shipment_id as route_shipment_id,
        cast(count() as Nullable(UInt64)) as prior_shipments,
        cast(countIf(known_outcomes.was_late) as Nullable(UInt64)) as prior_late
    from outcomes
    inner join known_outcomes
        on
            outcomes.origin_country = known_outcomes.origin_country
            and outcomes.transport_mode = known_outcomes.transport_mode
    where known_outcomes.known_date < outcomes.etd
    group by outcomes.shipment_id

),

with_history as (

    select
        outcomes.*,
        coalesce(overall_prior.prior_shipments, 0) as overall_n,
        coalesce(overall_prior.prior_late, 0) as overall_late,
        coalesce(supplier_prior.prior_shipments, 0) as supplier_n,
        coalesce(supplier_prior.prior_late, 0) as supplier_late,
        supplier_prior.prior_mean_delay_days as supplier_mean_delay,
        coalesce(route_prior.prior_shipments, 0) as route_n,
        coalesce(route_prior.prior_late, 0) as route_late
    from outcomes
    left join overall_prior on outcomes.shipment_id = overall_prior.overall_shipment_id
    left join supplier_prior on outcomes.shipment_id = supplier_prior.supplier_shipment_id
    left join route_prior on outcomes.shipment_id = route_prior.route_shipment_id

),

final as (

    select
        shipment_id,
        supplier_id,
        po_id,
        transport_mode,
        origin_country,
        customs_unit,
        incoterm,
        etd as as_of_date,
        etd,
        eta,
        actual_arrival,
        cast(toMonth(eta) as UInt8) as eta_month,
        cast(dateDiff('day', etd, eta) as Int32) as planned_transit_days,
        cast(dateDiff('day', order_date, etd) as Int32) as order_to_departure_days,
        log1p(toFloat64(gross_weight_kg)) as log_gross_weight_kg,
        cast(supplier_n as UInt32) as supplier_prior_shipments,
        -- shrunk towards the overall late share known at departure: (late + w * overall) / (n + w)
        (supplier_late + {{ prior_weight }} * if(overall_n > 0, overall_late / overall_n, 0))
        / (supplier_n + {{ prior_weight }}) as supplier_prior_late_rate,
        coalesce(supplier_mean_delay, 0) as supplier_prior_mean_delay_days,
        cast(route_n as UInt32) as route_prior_shipments,
        (route_late + {{ prior_weight }} * if(overall_n > 0, overall_late / overall_n, 0))
        / (route_n + {{ prior_weight }}) as route_prior_late_rate,
        arrival_delay_days,
        is_late,
        label_known_date,
        cast(actual_arrival is null as Bool) as is_open,
        data_as_of as data_as_of_date
    from with_history

)

select * from final
