with roster_rows as (

    select * from {{ ref('member_roster_validated') }}

),

deliveries as (

    select * from {{ ref('member_roster_deliveries') }}

),

latest_delivery as (

    select max(deliveries.roster_month_start_date) as latest_roster_month_start_date
    from deliveries

),

kept_rows as (

    select roster_rows.*
    from roster_rows
    where roster_rows.exclusion_reason is null

),

ranked_versions as (

    select
        kept_rows.*,
        row_number() over (
            partition by kept_rows.member_key, kept_rows.coverage_start_date
            order by
                kept_rows.record_updated_at desc,
                kept_rows.roster_month_start_date desc,
                kept_rows.source_file_modified_at desc,
                kept_rows.roster_row_id desc
        ) as version_rank
    from kept_rows

),

segment_versions as (

    select
        kept_rows.member_key,
        kept_rows.coverage_start_date,
        count(*) as roster_row_count,
        count(distinct kept_rows.record_updated_at) as version_count
    from kept_rows
    group by kept_rows.member_key, kept_rows.coverage_start_date

),

member_segments as (

    select
        segment_versions.*,
        segment_versions.coverage_start_date = max(segment_versions.coverage_start_date) over (
            partition by segment_versions.member_key
        ) as is_latest_segment
    from segment_versions

),

segment_presence as (

    -- Deliveries that carried the segment: rows of the member with the segment's start date,
    -- kept or excluded (an excluded row still shows the member in the file), and rows with
    -- an unreadable start date for the member's latest segment. Quarantined rows have no
    -- member and cannot count.
    select
        member_segments.member_key,
        member_segments.coverage_start_date,
        min(roster_rows.roster_month_start_date) as first_roster_month_start_date,
        max(roster_rows.roster_month_start_date) as last_roster_month_start_date
    from member_segments
    inner join roster_rows
        on
            member_segments.member_key = roster_rows.member_key
            and (
                member_segments.coverage_start_date = roster_rows.coverage_start_date
                or (roster_rows.coverage_start_date is null and member_segments.is_latest_segment)
            )
    group by member_segments.member_key, member_segments.coverage_start_date

),

segment_history as (

    select
        segment_versions.*,
        segment_presence.first_roster_month_start_date,
        segment_presence.last_roster_month_start_date
    from segment_versions
    inner join segment_presence
        on
            segment_versions.member_key = segment_presence.member_key
            and segment_versions.coverage_start_date = segment_presence.coverage_start_date

),

resolved as (

    select
        sha2(
            concat(
                ranked_versions.member_key,
                '|',
                cast(ranked_versions.coverage_start_date as string)
            ),
            256
        ) as enrollment_segment_id,
        ranked_versions.member_key,
        ranked_versions.subscriber_key,
        ranked_versions.line_of_business,
        ranked_versions.product_code,
        ranked_versions.plan_id,
        case
            when ranked_versions.coverage_end_date is not null then 'stated'
            when
                segment_history.last_roster_month_start_date
                < latest_delivery.latest_roster_month_start_date
                then 'absent_from_later_roster'
            else 'open'
        end as coverage_end_source,
        segment_history.roster_row_count,
        segment_history.version_count,
        ranked_versions.coverage_start_date,
        coalesce(
            ranked_versions.coverage_end_date,
            case
                when
                    segment_history.last_roster_month_start_date
                    < latest_delivery.latest_roster_month_start_date
                    then last_day(segment_history.last_roster_month_start_date)
            end
        ) as coverage_end_date,
        ranked_versions.coverage_end_date as stated_coverage_end_date,
        segment_history.first_roster_month_start_date,
        segment_history.last_roster_month_start_date,
        ranked_versions.record_updated_at
    from ranked_versions
    inner join segment_history
        on
            ranked_versions.member_key = segment_history.member_key
            and ranked_versions.coverage_start_date = segment_history.coverage_start_date
    cross join latest_delivery
    where ranked_versions.version_rank = 1

),

final as (

    -- A segment that left the roster before its start date never took effect.
    select resolved.*
    from resolved
    where
        resolved.coverage_end_date is null
        or resolved.coverage_end_date >= resolved.coverage_start_date

)

select * from final
