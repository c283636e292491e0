with

answers as (

    select * from {{ ref('stg_survey__answers') }}

),

respondents as (

    select * from {{ ref('int_survey_respondents_deduplicated') }}

),

item_map as (

    select * from {{ ref('stg_reference__survey_item_map') }}

),

partner_types as (

    select * from {{ ref('stg_reference__partner_types') }}

),

value_labels as (

    select * from {{ ref('stg_survey__value_labels') }}

),

answer_scales as (

    select * from {{ ref('stg_reference__answer_scales') }}

),

answering_respondents as (

    select
        export_id,
        respondent_id,
        municipality_code,
        sector_area_code,
        is_completed,
        is_latest_export

    from respondents
    where is_answering

),

partner_items as (

    select
        variable_name,
        item_code as partner_type_code,
        scale_id

    from item_map
    where concept = 'partner_frequency'

),

partner_answers as (

    select
        answering_respondents.export_id,
        answering_respondents.respondent_id,
        answering_respondents.municipality_code,
        answering_respondents.sector_area_code,
        answering_respondents.is_completed,
        answering_respondents.is_latest_export,
        answers.variable_name,
        partner_items.partner_type_code,
        partner_items.scale_id,
        answers.answer_code

    from answers
    inner join answering_respondents
        on
            answers.export_id = answering_respondents.export_id
            and answers.respondent_id = answering_respondents.respondent_id
    inner join partner_items
        on answers.variable_name = partner_items.variable_name

),

labelled as (

    select
        partner_answers.*,
        partner_types.partner_type_name_da,
        partner_types.partner_type_name_en,
        value_labels.answer_label

    from partner_answers
    left join partner_types
        on partner_answers.partner_type_code = partner_types.partner_type_code
    left join value_labels
        on
            partner_answers.export_id = value_labels.export_id
            and partner_answers.variable_name = value_labels.variable_name
            and partner_answers.answer_code = value_labels.answer_code

),

categorised as (

    select
        labelled.*,
        answer_scales.answer_category as frequency_category,
        answer_scales.answer_code is not null as is_answered

    from labelled
    left join answer_scales
        on
            labelled.scale_id = answer_scales.scale_id
            and labelled.answer_code = answer_scales.answer_code

),

final as (

    select
        -- ids
        export_id,
        respondent_id,
        municipality_code,
        sector_area_code,
        partner_type_code,
        variable_name,

        -- partner type
        partner_type_name_da,
        partner_type_name_en,

        -- answer
        answer_code,
        answer_label,
        frequency_category,
        coalesce(is_answered, false) as is_answered,
        is_completed as is_respondent_completed,
        is_latest_export

    from categorised

)

select * from final
