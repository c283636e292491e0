-- Every answer code of a mapped variable must belong to the answer scale its wave's mapping names
-- (the study mapping names the scale per wave, the answer_scales seed holds its codes).

with

answers as (

    select * from {{ ref('stg_survey__answers') }}

),

respondents as (

    select * from {{ ref('stg_survey__respondents') }}

),

item_map as (

    select * from {{ ref('stg_reference__survey_item_map') }}

),

answer_scales as (

    select * from {{ ref('stg_reference__answer_scales') }}

),

answers_with_scale as (

    select
        answers.export_id,
        answers.respondent_id,
        answers.variable_name,
        answers.answer_code,
        item_map.scale_id

    from answers
    inner join respondents
        on
            answers.export_id = respondents.export_id
            and answers.respondent_id = respondents.respondent_id
    inner join item_map
        on
            respondents.wave_id = item_map.wave_id
            and answers.variable_name = item_map.variable_name

),

final as (

    select answers_with_scale.*
    from answers_with_scale
    left join answer_scales
        on
            answers_with_scale.scale_id = answer_scales.scale_id
            and answers_with_scale.answer_code = answer_scales.answer_code
    where answer_scales.answer_code is null

)

select * from final
