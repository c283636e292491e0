with

source as (

    select * from {{ ref('survey_item_map') }}

),

renamed as (

    select
        variable_name,
        concept,
        item_code,
        scale_id

    from source

),

final as (

    select * from renamed

)

select * from final
