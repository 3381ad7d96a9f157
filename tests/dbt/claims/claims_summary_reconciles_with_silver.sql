{#
    Reconciliation: gold paid, allowed and billed totals and line counts equal the sums over
    the silver claim line tables, cell by cell (service month x claim type x product). Returns
    the cells that differ, missing cells on either side included.
#}

with claims_summary as (

    select * from {{ ref('claims_summary') }}

),

claims_medical as (

    select * from {{ ref('claims_medical') }}

),

claims_professional as (

    select * from {{ ref('claims_professional') }}

),

claims_pharmacy as (

    select * from {{ ref('claims_pharmacy') }}

),

silver_lines as (

    select
        'institutional' as claim_type,
        claims_medical.line_of_business,
        claims_medical.product_code,
        claims_medical.billed_amount,
        claims_medical.allowed_amount,
        claims_medical.paid_amount,
        claims_medical.service_from_date
    from claims_medical

    union all

    select
        'professional' as claim_type,
        claims_professional.line_of_business,
        claims_professional.product_code,
        claims_professional.billed_amount,
        claims_professional.allowed_amount,
        claims_professional.paid_amount,
        claims_professional.service_from_date
    from claims_professional

    union all

    select
        'pharmacy' as claim_type,
        claims_pharmacy.line_of_business,
        claims_pharmacy.product_code,
        claims_pharmacy.billed_amount,
        claims_pharmacy.allowed_amount,
        claims_pharmacy.paid_amount,
        claims_pharmacy.fill_date as service_from_date
    from claims_pharmacy

),

silver_totals as (

    select
        trunc(silver_lines.service_from_date, 'MM') as service_month_start_date,
        silver_lines.claim_type,
        silver_lines.line_of_business,
        silver_lines.product_code,
        count(*) as line_count,
        sum(silver_lines.billed_amount) as billed_amount,
        sum(silver_lines.allowed_amount) as allowed_amount,
        sum(silver_lines.paid_amount) as paid_amount
    from silver_lines
    group by
        trunc(silver_lines.service_from_date, 'MM'),
        silver_lines.claim_type,
        silver_lines.line_of_business,
        silver_lines.product_code

),

compared as (

    select
        coalesce(
            claims_summary.service_month_start_date, silver_totals.service_month_start_date
        ) as service_month_start_date,
        coalesce(claims_summary.claim_type, silver_totals.claim_type) as claim_type,
        coalesce(claims_summary.line_of_business, silver_totals.line_of_business)
            as line_of_business,
        coalesce(claims_summary.product_code, silver_totals.product_code) as product_code,
        claims_summary.paid_amount as gold_paid_amount,
        silver_totals.paid_amount as silver_paid_amount,
        claims_summary.allowed_amount as gold_allowed_amount,
        silver_totals.allowed_amount as silver_allowed_amount,
        claims_summary.billed_amount as gold_billed_amount,
        silver_totals.billed_amount as silver_billed_amount,
        claims_summary.line_count as gold_line_count,
        silver_totals.line_count as silver_line_count
    from claims_summary
    full outer join silver_totals
        on
            claims_summary.service_month_start_date = silver_totals.service_month_start_date
            and claims_summary.claim_type = silver_totals.claim_type
            and claims_summary.line_of_business = silver_totals.line_of_business
            and claims_summary.product_code = silver_totals.product_code

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
