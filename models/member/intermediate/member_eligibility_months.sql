with eligibility as (

    select * from {{ ref('member_eligibility') }}

),

demographics as (

    select * from {{ ref('member_demographics') }}

),

deliveries as (

    select * from {{ ref('member_roster_deliveries') }}

),

reporting_window as (

    select
        min(deliveries.roster_month_start_date) as first_month_start_date,
        max(deliveries.roster_month_start_date) as last_month_start_date
    from deliveries

),

span_months as (

    select
        eligibility.eligibility_span_id,
        eligibility.member_key,
        eligibility.line_of_business,
        eligibility.product_code,
        eligibility.plan_id,
        eligibility.eligibility_start_date,
        eligibility.eligibility_end_date,
        explode(
            sequence(
                greatest(
                    trunc(eligibility.eligibility_start_date, 'MM'),
                    reporting_window.first_month_start_date
                ),
                least(
                    trunc(
                        coalesce(
                            eligibility.eligibility_end_date,
                            reporting_window.last_month_start_date
                        ),
                        'MM'
                    ),
                    reporting_window.last_month_start_date
                ),
                interval 1 month
            )
        ) as month_start_date
    from eligibility
    cross join reporting_window
    where
        eligibility.eligibility_start_date <= last_day(reporting_window.last_month_start_date)
        and (
            eligibility.eligibility_end_date is null
            or eligibility.eligibility_end_date >= reporting_window.first_month_start_date
        )

),

final as (

    select
        span_months.eligibility_span_id,
        span_months.member_key,
        span_months.line_of_business,
        span_months.product_code,
        span_months.plan_id,
        demographics.gender,
        {{ member_age_band('year(span_months.month_start_date) - demographics.birth_year') }}
            as age_band,
        span_months.eligibility_start_date <= date_add(span_months.month_start_date, 14)
        and coalesce(
            span_months.eligibility_end_date >= date_add(span_months.month_start_date, 14),
            true
        ) as is_member_month,
        span_months.eligibility_start_date <= last_day(span_months.month_start_date)
        and coalesce(
            span_months.eligibility_end_date >= last_day(span_months.month_start_date),
            true
        ) as is_active_at_month_end,
        trunc(span_months.eligibility_start_date, 'MM') = span_months.month_start_date
            as is_span_start_month,
        coalesce(
            trunc(span_months.eligibility_end_date, 'MM') = span_months.month_start_date,
            false
        ) as is_span_end_month,
        span_months.month_start_date
    from span_months
    inner join demographics
        on span_months.member_key = demographics.member_key

)

select * from final
