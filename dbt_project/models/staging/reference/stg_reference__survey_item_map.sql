with

source as (

    select * from {{ ref('survey_item_map') }}

),

renamed as (

    select
        wave_id,
        variable_name,
        concept,
        item_code,
        scale_id,
        collaboration_slot

    from source

),

final as (

    select * from renamed

)

select * from final
