{#
    Fails on each pair of rows of the same partition (e.g. the same member) whose inclusive
    date ranges share a day. A NULL end means open-ended. Returns both rows' keys and ranges.
#}
{% test non_overlapping_date_ranges(model, partition_by, start_column, end_column, key_column) %}

    select
        earlier.{{ partition_by }},
        earlier.{{ key_column }} as earlier_key,
        later.{{ key_column }} as later_key,
        earlier.{{ start_column }} as earlier_start,
        earlier.{{ end_column }} as earlier_end,
        later.{{ start_column }} as later_start,
        later.{{ end_column }} as later_end
    from {{ model }} as earlier
    inner join {{ model }} as later
        on
            earlier.{{ partition_by }} = later.{{ partition_by }}
            and earlier.{{ key_column }} != later.{{ key_column }}
            and earlier.{{ start_column }} <= later.{{ start_column }}
            and (earlier.{{ end_column }} is null or earlier.{{ end_column }} >= later.{{ start_column }})

{% endtest %}
