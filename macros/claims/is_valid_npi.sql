{#
    TRUE when the text is an NPI whose last digit is its Luhn check digit, FALSE otherwise
    (NULL included). CMS computes the check over the card-issuer prefix 80840 plus the nine
    base digits; the prefix contributes a constant 24 to the Luhn sum, so a valid NPI satisfies
    (24 + sum over its ten digits, doubling digits 1, 3, 5, 7, 9) mod 10 = 0. A doubled digit
    counts the sum of its digits (2d, or 2d - 9 when 2d > 9). try_cast keeps ANSI mode from
    raising on the non-digit text the CASE guard already excludes.
#}
{% macro is_valid_npi(expression) -%}
    coalesce(
        case
            when {{ expression }} rlike {{ npi_pattern() }}
                then (
                    24
                    {%- for position in range(1, 11) %}
                        {%- set digit = "try_cast(substr(" ~ expression ~ ", " ~ position ~ ", 1) as int)" %}
                        {%- if position is odd %}
                    + case when {{ digit }} > 4 then 2 * {{ digit }} - 9 else 2 * {{ digit }} end
                        {%- else %}
                    + {{ digit }}
                        {%- endif %}
                    {%- endfor %}
                ) % 10 = 0
        end,
        false
    )
{%- endmacro %}
