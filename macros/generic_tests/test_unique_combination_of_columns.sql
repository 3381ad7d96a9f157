{#
    Fails on each combination of the given columns that occurs more than once: the composite
    key of a model whose grain is several columns. Returns the combination and its row count.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    select
        {%- for column in combination_of_columns %}
        {{ column }},
        {%- endfor %}
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

{% endtest %}
