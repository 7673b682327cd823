//! Inserting orders and their lines, many per statement.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::events::ValidOrder;

/// Inserts the orders in order id order. An order id that already exists fails the statement
/// with a unique violation, which the caller treats as a permanent failure.
pub async fn insert_orders(
    transaction: &tokio_postgres::Transaction<'_>,
    orders: &[&ValidOrder],
) -> Result<(), tokio_postgres::Error> {
    let events = orders.iter().map(|order| order.event());
    let order_ids: Vec<Uuid> = events.clone().map(|e| e.order_id).collect();
    let event_ids: Vec<Uuid> = events.clone().map(|e| e.event_id).collect();
    let customer_ids: Vec<&str> = events.clone().map(|e| e.customer.id.as_str()).collect();
    let emails: Vec<&str> = events.clone().map(|e| e.customer.email.as_str()).collect();
    let names: Vec<&str> = events.clone().map(|e| e.customer.name.as_str()).collect();
    let notes: Vec<Option<&str>> = events.clone().map(|e| e.delivery_note.as_deref()).collect();
    let currencies: Vec<&str> = events.clone().map(|e| e.currency.as_str()).collect();
    let totals: Vec<i64> = events.clone().map(|e| e.total_minor).collect();
    let placed_at: Vec<DateTime<Utc>> = events.map(|e| e.placed_at).collect();

    transaction
        .execute(
            "INSERT INTO orders (order_id, event_id, customer_id, customer_email, customer_name,
                                 delivery_note, currency, total_minor, placed_at)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::text[], $8::int8[], $9::timestamptz[])
             ORDER BY 1",
            &[&order_ids, &event_ids, &customer_ids, &emails, &names, &notes, &currencies, &totals, &placed_at],
        )
        .await?;
    Ok(())
}

/// Inserts the lines of the given orders, numbered from 1 in event order.
pub async fn insert_order_lines(
    transaction: &tokio_postgres::Transaction<'_>,
    orders: &[&ValidOrder],
) -> Result<(), tokio_postgres::Error> {
    let mut order_ids = Vec::new();
    let mut line_numbers = Vec::new();
    let mut skus = Vec::new();
    let mut quantities = Vec::new();
    let mut unit_prices = Vec::new();
    for order in orders {
        for (index, line) in order.event().lines.iter().enumerate() {
            order_ids.push(order.order_id());
            // At most MAX_LINES lines, so the index always fits.
            line_numbers.push(i32::try_from(index + 1).expect("line count is bounded by validation"));
            skus.push(line.sku.as_str());
            quantities.push(line.quantity);
            unit_prices.push(line.unit_price_minor);
        }
    }

    transaction
        .execute(
            "INSERT INTO order_lines (order_id, line_number, sku, quantity, unit_price_minor)
             SELECT * FROM unnest($1::uuid[], $2::int4[], $3::text[], $4::int4[], $5::int8[])",
            &[&order_ids, &line_numbers, &skus, &quantities, &unit_prices],
        )
        .await?;
    Ok(())
}
