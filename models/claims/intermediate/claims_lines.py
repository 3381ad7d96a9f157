"""Claim lines of every claim's final version, attributed to the member's product.

Python because this is a reshaping step rather than a rule: the nested ``service_lines`` array of
each final claim version becomes one row per line, and each claim is matched to the
eligibility span that covers its first service date. Version selection, the rule that unit
tests pin down, stays in SQL (claims_final_versions). The model is rebuilt on every run,
since eligibility history can be restated by later roster files.
"""

from typing import Any

UNATTRIBUTED = "unknown"


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    claims = dbt.ref("claims_final_versions").where(~sf.col("is_reversed"))
    spans = dbt.ref("member_eligibility").select(
        sf.col("member_key").alias("span_member_key"),
        "line_of_business",
        "product_code",
        "plan_id",
        "eligibility_start_date",
        "eligibility_end_date",
    )

    covering = (
        (claims["member_key"] == spans["span_member_key"])
        & (claims["service_from_date"] >= spans["eligibility_start_date"])
        & (
            spans["eligibility_end_date"].isNull()
            | (claims["service_from_date"] <= spans["eligibility_end_date"])
        )
    )
    latest_span_first = Window.partitionBy("claim_id").orderBy(
        sf.col("eligibility_start_date").desc_nulls_last(), sf.col("plan_id").asc_nulls_last()
    )
    attributed = (
        claims.join(spans, covering, "left")
        .withColumn("span_rank", sf.row_number().over(latest_span_first))
        .where(sf.col("span_rank") == 1)
    )

    lines = attributed.select("*", sf.posexplode("service_lines").alias("line_position", "line"))
    line_number = sf.coalesce(sf.col("line.line_number"), sf.col("line_position") + 1)
    return lines.select(
        sf.concat(
            sf.col("claim_id"), sf.lit("-L"), sf.lpad(line_number.cast("string"), 3, "0")
        ).alias("claim_line_id"),
        "claim_id",
        "claim_version_id",
        "member_key",
        "claim_type",
        "claim_status",
        sf.coalesce("line_of_business", sf.lit(UNATTRIBUTED)).alias("line_of_business"),
        sf.coalesce("product_code", sf.lit(UNATTRIBUTED)).alias("product_code"),
        "plan_id",
        "billing_npi",
        "rendering_npi",
        "principal_diagnosis_code",
        "diagnosis_codes",
        sf.col("line.procedure_code").alias("procedure_code"),
        sf.col("line.ndc").alias("ndc"),
        line_number.cast("int").alias("line_number"),
        sf.col("line.units").alias("units"),
        sf.col("line.billed_amount").cast("decimal(12,2)").alias("billed_amount"),
        sf.col("line.allowed_amount").cast("decimal(12,2)").alias("allowed_amount"),
        sf.col("line.paid_amount").cast("decimal(12,2)").alias("paid_amount"),
        "is_valid_billing_npi",
        "is_valid_rendering_npi",
        sf.col("span_member_key").isNotNull().alias("is_within_eligibility"),
        "service_from_date",
        "service_to_date",
        sf.col("line.service_date").alias("service_date"),
        "received_date",
    )
