with roster_rows as (

    select * from {{ ref('member_roster_validated') }}

),

deliveries as (

    select
        sha2(
            concat(
                roster_rows.source_file,
                '|',
                cast(roster_rows.source_file_modified_at as string)
            ),
            256
        ) as roster_delivery_id,
        roster_rows.source_file,
        count(*) as bronze_row_count,
        count_if(roster_rows.exclusion_reason is null) as kept_row_count,
        count_if(roster_rows.exclusion_reason is not null) as excluded_row_count,
        {% for rule in member_exclusion_rules() %}
            count_if(roster_rows.exclusion_reason = '{{ rule }}') as {{ rule }}_row_count,
        {% endfor %}
        min(roster_rows.roster_month_start_date) as roster_month_start_date,
        roster_rows.source_file_modified_at,
        min(roster_rows.ingested_at) as ingested_at
    from roster_rows
    group by roster_rows.source_file, roster_rows.source_file_modified_at

)

select * from deliveries
