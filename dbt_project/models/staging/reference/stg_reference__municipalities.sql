with

source as (

    select * from {{ ref('municipalities') }}

),

renamed as (

    select
        -- ids
        kommunekode as municipality_code,
        dagi_kode as dagi_code,

        -- attributes
        navn as municipality_name,
        regionskode as region_code,
        regionsnavn as region_name,
        landsdel_kode as province_code,
        landsdel_navn as province_name,

        -- measures (population on the first day of 2021K1)
        folketal as population_2021

    from source

),

final as (

    select * from renamed

)

select * from final
