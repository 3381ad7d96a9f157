"""Continuous eligibility spans per member, from the enrolment segments (gaps and islands).

Segments may overlap (a retro-dated correction next to the version it replaced) or touch. Each
day goes to the covering segment with the newest information (latest record_updated_at, then
latest coverage_start_date); consecutive days with the same line of business, product and plan
form one span. Spans of a member never overlap; a NULL end means open-ended.
"""

import datetime
import functools
import operator
from typing import Any

ATTRIBUTES = ("line_of_business", "product_code", "plan_id")


def resolve_spans(segments: Any, as_of_date: datetime.date | None) -> Any:
    """Spans from segments (member_key, coverage dates, ATTRIBUTES, record_updated_at)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    starts = segments.select("member_key", F.col("coverage_start_date").alias("boundary"))
    ends = segments.where(F.col("coverage_end_date").isNotNull()).select(
        "member_key", F.date_add("coverage_end_date", 1).alias("boundary")
    )
    by_boundary = Window.partitionBy("member_key").orderBy("boundary")
    pieces = (
        starts.unionByName(ends)
        .distinct()
        .select(
            "member_key",
            F.col("boundary").alias("piece_start_date"),
            F.date_sub(F.lead("boundary").over(by_boundary), 1).alias("piece_end_date"),
        )
    )
    piece, segment = pieces.alias("piece"), segments.alias("segment")
    covering = piece.join(
        segment,
        (F.col("piece.member_key") == F.col("segment.member_key"))
        & (F.col("segment.coverage_start_date") <= F.col("piece.piece_start_date"))
        & (
            F.col("segment.coverage_end_date").isNull()
            | (F.col("segment.coverage_end_date") >= F.col("piece.piece_start_date"))
        ),
    ).select(
        "piece.*",
        *[F.col(f"segment.{name}") for name in ATTRIBUTES],
        "segment.enrollment_segment_id",
        "segment.record_updated_at",
        "segment.coverage_start_date",
    )
    newest_first = Window.partitionBy("member_key", "piece_start_date").orderBy(
        F.desc("record_updated_at"), F.desc("coverage_start_date")
    )
    owned = covering.withColumn("owner_rank", F.row_number().over(newest_first)).where(
        F.col("owner_rank") == 1
    )
    by_start = Window.partitionBy("member_key").orderBy("piece_start_date")
    continues_previous = (
        F.date_add(F.lag("piece_end_date").over(by_start), 1) == F.col("piece_start_date")
    ) & functools.reduce(
        operator.and_, [F.lag(name).over(by_start).eqNullSafe(F.col(name)) for name in ATTRIBUTES]
    )
    islands = owned.withColumn(
        "span_number",
        F.sum(F.when(continues_previous, 0).otherwise(1)).over(
            by_start.rowsBetween(Window.unboundedPreceding, Window.currentRow)
        ),
    )
    spans = islands.groupBy("member_key", "span_number", *ATTRIBUTES).agg(
        F.min("piece_start_date").alias("eligibility_start_date"),
        F.max_by("piece_end_date", "piece_start_date").alias("eligibility_end_date"),
        F.count_distinct("enrollment_segment_id").alias("enrollment_segment_count"),
        F.max("record_updated_at").alias("record_updated_at"),
    )
    is_current = F.col("eligibility_end_date").isNull()
    if as_of_date is not None:
        is_current = is_current | (F.col("eligibility_end_date") >= F.lit(as_of_date))
    return spans.select(
        F.sha2(
            F.concat_ws("|", "member_key", F.col("eligibility_start_date").cast("string")), 256
        ).alias("eligibility_span_id"),
        "member_key",
        *ATTRIBUTES,
        F.col("enrollment_segment_count").cast("int").alias("enrollment_segment_count"),
        is_current.alias("is_current"),
        "eligibility_start_date",
        "eligibility_end_date",
        "record_updated_at",
    )


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")
    from pyspark.sql import functions as F

    segments = dbt.ref("member_enrollment")
    latest = dbt.ref("member_roster_deliveries").agg(
        F.last_day(F.max("roster_month_start_date")).alias("as_of_date")
    )
    return resolve_spans(segments, latest.first()["as_of_date"])
