{#
    The value labels of every coded column the marts publish, one codebook per kind of code. A mart
    column names its codebook in its YAML (`meta: codebook:`); publish writes this table into the
    file's meta.value_labels, and SPSS and Stata exports turn it into value labels.
#}

with

municipalities as (

    select * from {{ ref('stg_reference__municipalities') }}

),

municipality_groups as (

    select * from {{ ref('stg_reference__municipality_groups') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

answer_categories as (

    select * from {{ ref('stg_reference__answer_categories') }}

),

municipality_labels as (

    select
        'municipalities' as codebook,
        cast(municipality_code as varchar) as value,
        municipality_code as code,
        municipality_name as label_da,
        municipality_name as label_en,
        row_number() over (order by municipality_code) as sort_order
    from municipalities

),

region_labels as (

    select distinct
        'regions' as codebook,
        cast(region_code as varchar) as value,
        region_code as code,
        region_name as label_da,
        region_name as label_en,
        region_code - 1080 as sort_order
    from municipalities

),

municipality_group_labels as (

    select distinct
        'municipality_groups' as codebook,
        cast(municipality_group_code as varchar) as value,
        municipality_group_code as code,
        municipality_group_name as label_da,
        municipality_group_name as label_en,
        municipality_group_code as sort_order
    from municipality_groups

),

sector_area_labels as (

    select
        'sector_areas' as codebook,
        cast(sector_area_code as varchar) as value,
        sector_area_code as code,
        sector_area_name_da as label_da,
        sector_area_name_en as label_en,
        sector_area_code as sort_order
    from sector_areas

),

answer_category_labels as (

    select
        'answer_categories' as codebook,
        answer_category as value,
        answer_category_code as code,
        answer_category_name_da as label_da,
        answer_category_name_en as label_en,
        answer_category_code as sort_order
    from answer_categories

),

final as (

    select * from municipality_labels
    union all
    select * from region_labels
    union all
    select * from municipality_group_labels
    union all
    select * from sector_area_labels
    union all
    select * from answer_category_labels

)

select * from final
