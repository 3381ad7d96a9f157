{#
    Salted SHA-256 of a direct identifier, so silver can join on a key without carrying the
    identifier. The salt is never written into compiled SQL on Databricks: it is read at run time
    from the secret scope `data_ops`, key `phi_salt`. Locally it comes from the `phi_salt`
    project variable (env DATA_OPS_PHI_SALT; a public default fit for synthetic data only).
    Both domains use this macro, so member_key in claims equals member_key in member.
#}
{% macro hash_identifier(column) -%}
    {%- if target.type == 'databricks' -%}
        {%- set salt = "secret('data_ops', 'phi_salt')" -%}
    {%- else -%}
        {%- if "'" in var('phi_salt') or "\\" in var('phi_salt') -%}
            {{ exceptions.raise_compiler_error(
                "phi_salt (DATA_OPS_PHI_SALT) may not contain quotes or backslashes; "
                ~ "choose a salt of letters, digits and punctuation such as - _ . :"
            ) }}
        {%- endif -%}
        {%- set salt = "'" ~ var('phi_salt') ~ "'" -%}
    {%- endif -%}
    sha2(concat({{ salt }}, '|', upper(trim(cast({{ column }} as string)))), 256)
{%- endmacro %}
