with

source as (

    select * from {{ ref('informant_roles') }}

),

renamed as (

    select
        informant_role,
        informant_role_name_da,
        informant_role_name_en

    from source

),

final as (

    select * from renamed

)

select * from final
