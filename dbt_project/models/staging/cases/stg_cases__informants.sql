with

source as (

    select * from {{ source('cases', 'case_informants') }}

),

renamed as (

    select
        -- ids
        informant_id,
        case_id,
        informant_pseudonym,

        -- attributes
        informant_role,
        organisation_type,

        -- lineage
        source_file,
        source_row

    from source

),

final as (

    select * from renamed

)

select * from final
