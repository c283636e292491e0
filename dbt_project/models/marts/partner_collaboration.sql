with

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

partner_types as (

    select * from {{ ref('stg_reference__partner_types') }}

),

partner_answers as (

    select * from {{ ref('int_partner_answers_labelled') }}

),

grid as (

    select
        sector_areas.sector_area_code,
        sector_areas.sector_area_name_da as sector_area_name,
        sector_areas.sector_area_name_en,
        partner_types.partner_type_code,
        partner_types.partner_type_name_da as partner_type_name,
        partner_types.partner_type_name_en

    from sector_areas
    cross join partner_types

),

answer_counts as (

    select
        sector_area_code,
        partner_type_code,
        count(*) as n_respondents,
        count(*) filter (where frequency_category = 'always_or_often') as n_always_or_often,
        count(*) filter (where frequency_category = 'sometimes') as n_sometimes,
        count(*) filter (where frequency_category = 'seldom') as n_seldom,
        count(*) filter (where frequency_category = 'never') as n_never,
        count(*) filter (where frequency_category = 'dont_know') as n_dont_know

    from partner_answers
    where
        is_latest_export
        and is_answered
    group by
        sector_area_code,
        partner_type_code

),

joined as (

    select
        grid.*,
        coalesce(answer_counts.n_respondents, 0) as n_respondents,
        coalesce(answer_counts.n_always_or_often, 0) as n_always_or_often,
        coalesce(answer_counts.n_sometimes, 0) as n_sometimes,
        coalesce(answer_counts.n_seldom, 0) as n_seldom,
        coalesce(answer_counts.n_never, 0) as n_never,
        coalesce(answer_counts.n_dont_know, 0) as n_dont_know

    from grid
    left join answer_counts
        on
            grid.sector_area_code = answer_counts.sector_area_code
            and grid.partner_type_code = answer_counts.partner_type_code

),

final as (

    select
        *,
        cast(n_always_or_often as double)
        / nullif(n_respondents - n_dont_know, 0) as share_always_or_often

    from joined

)

select * from final
