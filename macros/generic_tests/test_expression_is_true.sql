{#
    Fails on each row where the boolean SQL expression is not true (false or NULL), so a
    business rule that must hold on every row reads as written: expression: "a >= b".
    Restrict it to some rows with the test's `where` config.
#}
{% test expression_is_true(model, expression) %}

    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)

{% endtest %}
