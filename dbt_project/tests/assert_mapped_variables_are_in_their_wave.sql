-- Every variable the study mapping names for a wave is in each of that wave's exports. A mapping entry
-- whose variable the export does not have (a typo, or a question the wave dropped without its mapping
-- rows) would publish an empty figure as if nobody had answered: the build fails instead.

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

expected as (

    select
        exports.export_id,
        item_map.wave_id,
        item_map.variable_name

    from item_map
    inner join exports
        on item_map.wave_id = exports.wave_id

),

final as (

    select expected.*
    from expected
    left join variables
        on
            expected.export_id = variables.export_id
            and expected.variable_name = variables.variable_name
    where variables.variable_name is null

)

select * from final
