{#
    Fails for every combination of the given columns that occurs more than once.
    Usage (model level):
        data_tests:
          - unique_combination:
              arguments:
                combination_of_columns: [export_id, respondent_id]
#}
{% test unique_combination(model, combination_of_columns) %}

with

validation as (

    select
        {% for column_name in combination_of_columns -%}
        {{ column_name }},
        {% endfor -%}
        count(*) as n_rows
    from {{ model }}
    group by all

),

final as (

    select * from validation
    where n_rows > 1

)

select * from final

{% endtest %}
