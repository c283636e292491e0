with

source as (

    select * from {{ ref('statbank_tables') }}

),

renamed as (

    select
        -- ids
        upper(table_id) as table_id,

        -- attributes
        measure,
        variables as requested_variables,
        value_presentation,
        lang,
        description_en

    from source

),

final as (

    select * from renamed

)

select * from final
