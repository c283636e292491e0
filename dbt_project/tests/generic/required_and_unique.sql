{#
    A model's required columns and its keys in one query: each column of `not_null` has no empty cell,
    and each key of `unique` (a list of columns) occurs in one row at most. A key of one column skips
    empty cells, as dbt's `unique` does; a key of several columns counts empty cells as a value, as
    `group by` does. Fails with one row per check that some rows break: the check in words and how many
    rows, never a value. One dbt node per model, where a `not_null` per column, a `unique` per key
    column and a `unique_combination` per key were one node each.
    Usage (model, seed or source table level):
        data_tests:
          - required_and_unique:
              name: required_and_unique_<model>
              arguments:
                not_null:
                  - municipality_code
                  - wave_id
                unique:
                  - [municipality_code, wave_id]
                  - [municipality_name]
#}
{% test required_and_unique(model, not_null=[], unique=[]) %}

with

empty_cells as (

    select
        count(*) as "rows"
        {%- for column in not_null %},
        count(*) filter (where {{ column }} is null) as {{ adapter.quote('empty cells in ' ~ column) }}
        {%- endfor %}
    from {{ model }}

),
{% for key in unique %}

repeated_{{ loop.index }} as (

    select cast(coalesce(sum(n_rows), 0) as bigint) as {{ adapter.quote('key (' ~ key | join(', ') ~ ') repeated') }}
    from (
        select count(*) as n_rows
        from {{ model }}
        {%- if key | length == 1 %}
        where {{ key[0] }} is not null
        {%- endif %}
        group by {{ key | join(', ') }}
        having count(*) > 1
    )

),
{% endfor %}

broken_rows as (

    select * exclude ("rows")
    from empty_cells
    {%- for key in unique %}
    cross join repeated_{{ loop.index }}
    {%- endfor %}

),

{{ checks_of_broken_rows() }}

{% endtest %}
