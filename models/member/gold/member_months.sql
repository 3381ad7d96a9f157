-- The PMPM denominator is member_summary's member_months column, kept as its own narrow table
-- (no empty cells) so claims_summary and the dashboards read one small relation.
with member_summary as (

    select * from {{ ref('member_summary') }}

),

final as (

    select
        member_summary.month_start_date,
        member_summary.line_of_business,
        member_summary.product_code,
        member_summary.plan_id,
        member_summary.member_months
    from member_summary
    where member_summary.member_months > 0

)

select * from final
