{{ claim_type_lines('pharmacy', [
    "claim_line_id", "claim_id", "claim_version_id", "member_key", "claim_status",
    "line_of_business", "product_code", "plan_id", "billing_npi as pharmacy_npi",
    "rendering_npi as prescriber_npi", "ndc", "line_number", "units as dispensed_quantity",
    "billed_amount", "allowed_amount", "paid_amount",
    "is_valid_billing_npi as is_valid_pharmacy_npi",
    "is_valid_rendering_npi as is_valid_prescriber_npi", "is_within_eligibility",
    "service_from_date as fill_date", "received_date"
]) }}
