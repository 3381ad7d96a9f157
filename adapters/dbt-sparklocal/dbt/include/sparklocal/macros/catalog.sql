{# The local engine has one catalog per process (spark_catalog); relations carry no database. #}
{% macro sparklocal__generate_database_name(custom_database_name=none, node=none) -%}
    {{ return(none) }}
{%- endmacro %}
