"""Claim lines of every claim's final version, attributed to the member's product.

Python because this is a reshaping step rather than a rule: the nested ``service_lines`` array of
each final claim version becomes one row per line, and each claim is matched to the
eligibility span that covers its first service date. Version selection, the rule that unit
tests pin down, stays in SQL (claims_final_versions).

Incremental by claim (delete+insert on claim_id): a run rewrites the lines of the claims that
received a version since the last run, and of the claims whose attribution the latest
eligibility no longer gives (a roster correction restated the member's spans). A reversed claim
keeps its final version's lines, flagged ``is_reversed``, so that its earlier lines are replaced
rather than left behind; the silver claim-type tables and gold read only unreversed lines.
"""

from typing import Any

UNATTRIBUTED = "unknown"
ATTRIBUTION = ("line_of_business", "product_code", "plan_id", "is_within_eligibility")


def attribute(claims: Any, spans: Any) -> Any:
    """``claims`` with the ATTRIBUTION columns of the span covering each service_from_date."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    spans = spans.select(
        sf.col("member_key").alias("span_member_key"),
        sf.col("line_of_business").alias("span_line_of_business"),
        sf.col("product_code").alias("span_product_code"),
        sf.col("plan_id").alias("span_plan_id"),
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
        sf.col("eligibility_start_date").desc_nulls_last(), sf.col("span_plan_id").asc_nulls_last()
    )
    ranked = (
        claims.join(spans, covering, "left")
        .withColumn("span_rank", sf.row_number().over(latest_span_first))
        .where(sf.col("span_rank") == 1)
    )
    return ranked.select(
        *claims.columns,
        sf.coalesce("span_line_of_business", sf.lit(UNATTRIBUTED)).alias("line_of_business"),
        sf.coalesce("span_product_code", sf.lit(UNATTRIBUTED)).alias("product_code"),
        sf.col("span_plan_id").alias("plan_id"),
        sf.col("span_member_key").isNotNull().alias("is_within_eligibility"),
    )


def changed_claims(claims: Any, spans: Any, loaded: Any) -> Any:
    """Claim ids whose lines must be rewritten: new versions, or a different attribution."""
    from pyspark.sql import functions as sf

    watermark = loaded.agg(sf.max("last_ingested_at")).first()[0]
    if watermark is None:
        return claims.select("claim_id")
    new_versions = claims.where(sf.col("last_ingested_at") > sf.lit(watermark)).select("claim_id")
    stored = loaded.select("claim_id", *ATTRIBUTION).distinct()
    current = attribute(
        claims.select("claim_id", "member_key", "service_from_date"), spans
    ).select("claim_id", *ATTRIBUTION)
    same = [current[name].eqNullSafe(stored[name]) for name in ATTRIBUTION]
    restated = (
        current.join(stored, current["claim_id"] == stored["claim_id"])
        .where(~(same[0] & same[1] & same[2] & same[3]))
        .select(current["claim_id"])
    )
    return new_versions.unionByName(restated).distinct()


def model(dbt: Any, session: Any) -> Any:
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="claim_id",
    )
    from pyspark.sql import functions as sf

    claims = dbt.ref("claims_final_versions")
    spans = dbt.ref("member_eligibility")
    if dbt.is_incremental:
        loaded = session.table(str(dbt.this))
        claims = claims.join(changed_claims(claims, spans, loaded), "claim_id", "left_semi")

    attributed = attribute(claims, spans)
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
        "line_of_business",
        "product_code",
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
        "is_within_eligibility",
        "is_reversed",
        "service_from_date",
        "service_to_date",
        sf.col("line.service_date").alias("service_date"),
        "received_date",
        "last_ingested_at",
        sf.current_timestamp().alias("processed_at"),
    )
