with

source as (

    select * from {{ ref('organisation_types') }}

),

renamed as (

    select
        organisation_type,
        organisation_type_name_da,
        organisation_type_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
