{{ config(severity='warn') }}

-- A warning for every closed questionnaire variable of a mapped export that the study mapping does not
-- name for its wave: its answers stay in raw and reach no mart until a survey_item_map row names them.

with

item_map as (

    select * from {{ ref('stg_reference__survey_item_map') }}

),

exports as (

    select * from {{ ref('stg_survey__exports') }}

),

variables as (

    select * from {{ ref('stg_survey__variables') }}

),

closed_answers as (

    select
        variables.export_id,
        exports.wave_id,
        variables.variable_name

    from variables
    inner join exports
        on variables.export_id = exports.export_id
    where
        exports.wave_id is not null
        and variables.variable_role = 'answer'
        and variables.is_closed

),

final as (

    select closed_answers.*
    from closed_answers
    left join item_map
        on
            closed_answers.wave_id = item_map.wave_id
            and closed_answers.variable_name = item_map.variable_name
    where item_map.variable_name is null

)

select * from final
