with

source as (

    select * from {{ ref('activity_types') }}

),

renamed as (

    select
        activity_type,
        activity_type_name_da,
        activity_type_name_en,
        is_interview

    from source

),

final as (

    select * from renamed

)

select * from final
