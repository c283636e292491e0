{#
    The codes of a model in one query: each reference's column holds only values found in `field` of the
    model `to` (a relationship), each list's column only the values listed (accepted values); empty cells
    are not checked. Fails with one row per check that some rows break: the check in words and how many
    rows, never a value. One dbt node per model and severity, where a `relationships` or `accepted_values`
    test per column was one node each (on the sample 39 nodes fewer).
    Usage (model level):
        data_tests:
          - references:
              name: references_<model>
              arguments:
                references:
                  - {column: sector_area_code, to: ref('stg_reference__sector_areas'), field: sector_area_code}
                values:
                  - {column: breakdown, values: ['all', 'sector_area']}
#}
{% test references(model, references=[], values=[]) %}

{%- set checks = [] -%}
{%- for reference in references -%}
    {%- do checks.append((
        reference.column ~ ' not found in ' ~ reference.to.identifier ~ '.' ~ reference.field,
        reference.column ~ ' not in (select ' ~ reference.field ~ ' from ' ~ reference.to
            ~ ' where ' ~ reference.field ~ ' is not null)'
    )) -%}
{%- endfor -%}
{%- for listed in values -%}
    {%- set quoted = [] -%}
    {%- for value in listed['values'] -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- do checks.append((
        listed.column ~ ' not among the accepted values',
        'cast(' ~ listed.column ~ ' as varchar) not in (' ~ quoted | join(', ') ~ ')'
    )) -%}
{%- endfor %}

{{ broken_checks(model, checks) }}

{% endtest %}
