{{ config(order_by=['supplier_id', 'po_id']) }}
{#- One row per live purchase order (not soft-deleted, not CANCELLED): its promised arrival, when its goods
    arrived, cleared customs and entered stock, and the delivery rules measured on it (README.md). -#}
with

orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

declarations as (

    select * from {{ ref('stg_erp__import_declarations') }}

),

movements as (

    select * from {{ ref('stg_erp__inventory_movements') }}

),

as_of as (

    -- the latest date the ERP shows any change of an order or a shipment (São Paulo calendar): what "today" is
    -- for this data; an order still missing its goods after its promised date is late as of this date
    select max(changed_on) as as_of_date
    from (
        select toDate(updated_at, 'America/Sao_Paulo') as changed_on from orders
        union all
        select toDate(updated_at, 'America/Sao_Paulo') as changed_on from shipments
    )

),

live_orders as (

    select
        po_id,
        supplier_id,
        order_date,
        expected_arrival_date as promised_arrival_date
    from orders
    where not is_deleted and status != 'CANCELLED'

),

live_shipments as (

    select
        shipment_id,
        po_id,
        actual_arrival
    from shipments
    where not is_deleted

),

clearances as (

    -- a shipment is cleared when all its (live) import declarations are; NULL while one is not or none exists
    select
        live_shipments.shipment_id as shipment_id,
        if(countIf(declarations.clearance_date is null) > 0, null, max(declarations.clearance_date)) as cleared_date
    from declarations
    inner join live_shipments on live_shipments.shipment_id = declarations.shipment_id
    where not declarations.is_deleted
    group by live_shipments.shipment_id

),

receipts as (

    -- stock receipts booked against the order's import declarations (one per declaration item)
    select
        live_shipments.po_id as po_id,
        max(movements.movement_date) as received_date
    from movements
    inner join declarations on declarations.declaration_id = movements.reference_id
    inner join live_shipments on live_shipments.shipment_id = declarations.shipment_id
    where
        not movements.is_deleted
        and not declarations.is_deleted
        and movements.movement_type = 'RECEIPT'
        and movements.reference_type = 'IMPORT_DECLARATION'
    group by live_shipments.po_id

),

shipment_dates as (

    select
        live_shipments.po_id as po_id,
        live_shipments.actual_arrival as actual_arrival,
        clearances.cleared_date as cleared_date
    from live_shipments
    left join (select shipment_id, toNullable(cleared_date) as cleared_date from clearances) as clearances
        on clearances.shipment_id = live_shipments.shipment_id

),

shipped as (

    -- the goods of an order have arrived (cleared) when its last shipment has: NULL while one has not
    select
        po_id,
        if(countIf(actual_arrival is null) > 0, null, max(actual_arrival)) as arrival_date,
        if(countIf(cleared_date is null) > 0, null, max(cleared_date)) as cleared_date
    from shipment_dates
    group by po_id

),

joined as (

    select
        live_orders.po_id as po_id,
        live_orders.supplier_id as supplier_id,
        live_orders.order_date as order_date,
        live_orders.promised_arrival_date as promised_arrival_date,
        shipped.arrival_date as arrival_date,
        shipped.cleared_date as cleared_date,
        receipts.received_date as received_date,
        as_of.as_of_date as as_of_date
    from live_orders
    cross join as_of
    left join (
        select
            po_id,
            toNullable(arrival_date) as arrival_date,
            toNullable(cleared_date) as cleared_date
        from shipped
    ) as shipped on shipped.po_id = live_orders.po_id
    left join (select po_id, toNullable(received_date) as received_date from receipts) as receipts
        on receipts.po_id = live_orders.po_id

),

measured as (

    select
        *,
        -- on time: arrived on or before the promised date. An order not arrived yet is late once its promised
        -- date is before as_of_date, and not measurable (NULL) until then; no promised date, not measurable
        cast(
            multiIf(
                promised_arrival_date is null, null,
                arrival_date is not null, arrival_date <= promised_arrival_date,
                promised_arrival_date < as_of_date, false,
                null
            ) as Nullable(Bool)
        ) as is_on_time,
        cast(dateDiff('day', promised_arrival_date, arrival_date) as Nullable(Int32)) as arrival_delay_days,
        -- lead time: order date to the stock receipt of its goods (calendar days, customs clearance included)
        cast(dateDiff('day', order_date, received_date) as Nullable(Int32)) as lead_time_days
    from joined

),

final as (

    select * from measured

)

select * from final
