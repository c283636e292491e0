{#
    Fails when a mart is not a complete grid: within each group of the `within` columns, the number of
    rows must equal the product of the distinct values of each of the `dimensions` (expressions), so
    no combination is missing (uniqueness is tested apart).
    Usage (model level):
        data_tests:
          - complete_grid:
              arguments:
                within: [wave_id, concept]
                dimensions: ["coalesce(item_code, -1)", "answer_category"]
#}
{% test complete_grid(model, within, dimensions) %}

with

sizes as (

    select
        {% for column_name in within -%}
        {{ column_name }},
        {% endfor -%}
        count(*) as n_rows,
        {% for dimension in dimensions -%}
        count(distinct {{ dimension }}){% if not loop.last %} * {% endif %}
        {%- endfor %} as n_expected

    from {{ model }}
    group by all

),

final as (

    select * from sizes
    where n_rows <> n_expected

)

select * from final

{% endtest %}
