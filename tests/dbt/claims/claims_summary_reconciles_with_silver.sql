{#
    Reconciliation against an independent computation: gold's paid, allowed and billed totals
    and line counts per service month and claim type equal the sums over the service lines of
    claims_final_versions (the final, non-reversed version of each claim), computed here
    without claims_lines, the Python model gold reads. Returns the cells that differ, missing
    cells on either side included.
#}

{{ config(group='claims') }}

with claims_summary as (

    select * from {{ ref('claims_summary') }}

),

claims_final_versions as (

    select * from {{ ref('claims_final_versions') }}

),

gold_totals as (

    select
        claims_summary.service_month_start_date,
        claims_summary.claim_type,
        sum(claims_summary.line_count) as line_count,
        sum(claims_summary.billed_amount) as billed_amount,
        sum(claims_summary.allowed_amount) as allowed_amount,
        sum(claims_summary.paid_amount) as paid_amount
    from claims_summary
    group by claims_summary.service_month_start_date, claims_summary.claim_type

),

final_lines as (

    select
        claims_final_versions.claim_type,
        trunc(claims_final_versions.service_from_date, 'MM') as service_month_start_date,
        explode(claims_final_versions.service_lines) as service_line
    from claims_final_versions
    where
        not claims_final_versions.is_reversed
        and claims_final_versions.claim_type in ('institutional', 'professional', 'pharmacy')

),

silver_totals as (

    select
        final_lines.service_month_start_date,
        final_lines.claim_type,
        count(*) as line_count,
        sum(final_lines.service_line.billed_amount) as billed_amount,
        sum(final_lines.service_line.allowed_amount) as allowed_amount,
        sum(final_lines.service_line.paid_amount) as paid_amount
    from final_lines
    group by final_lines.service_month_start_date, final_lines.claim_type

),

compared as (

    select
        coalesce(
            gold_totals.service_month_start_date, silver_totals.service_month_start_date
        ) as service_month_start_date,
        coalesce(gold_totals.claim_type, silver_totals.claim_type) as claim_type,
        gold_totals.paid_amount as gold_paid_amount,
        silver_totals.paid_amount as silver_paid_amount,
        gold_totals.allowed_amount as gold_allowed_amount,
        silver_totals.allowed_amount as silver_allowed_amount,
        gold_totals.billed_amount as gold_billed_amount,
        silver_totals.billed_amount as silver_billed_amount,
        gold_totals.line_count as gold_line_count,
        silver_totals.line_count as silver_line_count
    from gold_totals
    full outer join silver_totals
        on
            gold_totals.service_month_start_date = silver_totals.service_month_start_date
            and gold_totals.claim_type = silver_totals.claim_type

),

differences as (

    select compared.* from compared
    where
        not coalesce(compared.gold_paid_amount = compared.silver_paid_amount, false)
        or not coalesce(compared.gold_allowed_amount = compared.silver_allowed_amount, false)
        or not coalesce(compared.gold_billed_amount = compared.silver_billed_amount, false)
        or not coalesce(compared.gold_line_count = compared.silver_line_count, false)

)

select * from differences
