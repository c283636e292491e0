{#
    Fails, with one row holding the count, when the model's row count lies outside [min_value, max_value]
    (inclusive). Either bound may be left out. Usage (model level):
        data_tests:
          - row_count_between:
              arguments:
                min_value: 98
                max_value: 98
#}
{% test row_count_between(model, min_value=none, max_value=none) %}

with

row_count as (

    select count(*) as n_rows
    from {{ model }}

),

final as (

    select * from row_count
    where
        false
        {%- if min_value is not none %}
        or n_rows < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or n_rows > {{ max_value }}
        {%- endif %}

)

select * from final

{% endtest %}
