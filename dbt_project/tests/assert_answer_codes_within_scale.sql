-- Every answer code must belong to the answer scale of its questionnaire variable
-- (the study mapping names the scale, the answer_scales seed holds its codes).

with

answers as (

    select * from {{ ref('stg_survey__answers') }}

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
    inner join item_map
        on answers.variable_name = item_map.variable_name
    where answers.answer_code is not null

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
