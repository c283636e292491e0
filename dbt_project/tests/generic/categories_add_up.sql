{#
    Fails for every item of a concept mart whose answer categories do not add up: the category counts
    must sum to n_valid, and n_valid + n_dont_know must equal n_answered, weighted and unweighted.
#}
{% test categories_add_up(model) %}

with

items as (

    select
        wave_id,
        breakdown,
        sector_area_code,
        concept,
        item_code,
        sum(n_category) as n_categories,
        min(n_valid) as n_valid,
        max(n_valid) as n_valid_max,
        min(n_dont_know) as n_dont_know,
        min(n_answered) as n_answered,
        sum(weighted_n_category) as weighted_n_categories,
        min(weighted_n_valid) as weighted_n_valid

    from {{ model }}
    group by all

),

final as (

    select * from items
    where
        n_categories <> n_valid
        or n_valid <> n_valid_max
        or n_valid + n_dont_know <> n_answered
        or abs(weighted_n_categories - weighted_n_valid) > 1e-6

)

select * from final

{% endtest %}
