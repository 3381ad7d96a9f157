{#
    NDC as delivered -> the 11-digit 5-4-2 billing form with hyphens (00093-1048-01).

    Accepted inputs: 11 digits without hyphens (split 5-4-2), or hyphenated 5-4-2, 4-4-2, 5-3-2
    or 5-4-1, where the short segment gets its leading zero back. A 10-digit code without hyphens
    is ambiguous (which segment lost its zero?) and, like every other shape, becomes NULL.
    Hyphenated segments are within 4-5, 3-4 and 1-2 digits; with 10 or 11 digits in total those
    bounds admit exactly the four valid shapes (4-3-2 has 9, 5-4-2 has 11).
#}
{% macro normalize_ndc11(expression) -%}
    case
        when trim({{ expression }}) rlike '^[0-9]{11}$'
            then concat_ws(
                '-',
                substr(trim({{ expression }}), 1, 5),
                substr(trim({{ expression }}), 6, 4),
                substr(trim({{ expression }}), 10, 2)
            )
        when trim({{ expression }}) rlike '^[0-9]{4,5}-[0-9]{3,4}-[0-9]{1,2}$'
            and length(replace(trim({{ expression }}), '-', '')) in (10, 11)
            then concat_ws(
                '-',
                lpad(substring_index(trim({{ expression }}), '-', 1), 5, '0'),
                lpad(substring_index(substring_index(trim({{ expression }}), '-', 2), '-', -1), 4, '0'),
                lpad(substring_index(trim({{ expression }}), '-', -1), 2, '0')
            )
    end
{%- endmacro %}
