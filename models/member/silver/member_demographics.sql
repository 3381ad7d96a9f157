with roster_rows as (

    select * from {{ ref('member_roster_validated') }}

),

eligibility as (

    select * from {{ ref('member_eligibility') }}

),

deliveries as (

    select * from {{ ref('member_roster_deliveries') }}

),

as_of as (

    select last_day(max(deliveries.roster_month_start_date)) as as_of_date
    from deliveries

),

latest_versions as (

    select
        roster_rows.*,
        row_number() over (
            partition by roster_rows.member_key
            order by
                roster_rows.record_updated_at desc,
                roster_rows.roster_month_start_date desc,
                roster_rows.source_file_modified_at desc,
                roster_rows.roster_row_id desc
        ) as version_rank
    from roster_rows
    where roster_rows.exclusion_reason is null

),

latest_spans as (

    select
        eligibility.*,
        row_number() over (
            partition by eligibility.member_key
            order by eligibility.eligibility_start_date desc
        ) as span_rank
    from eligibility

),

final as (

    select
        latest_versions.member_key,
        latest_versions.subscriber_key,
        latest_versions.relationship,
        latest_versions.gender,
        {{ member_age_band('year(as_of.as_of_date) - latest_versions.birth_year') }} as age_band,
        latest_versions.zip3,
        latest_versions.state,
        latest_spans.line_of_business,
        latest_spans.product_code,
        latest_spans.plan_id,
        latest_versions.birth_year,
        latest_spans.is_current as is_active,
        latest_spans.eligibility_start_date as latest_eligibility_start_date,
        latest_spans.eligibility_end_date as latest_eligibility_end_date,
        latest_versions.record_updated_at
    from latest_versions
    inner join latest_spans
        on
            latest_versions.member_key = latest_spans.member_key
            and latest_spans.span_rank = 1
    cross join as_of
    where latest_versions.version_rank = 1

)

select * from final
