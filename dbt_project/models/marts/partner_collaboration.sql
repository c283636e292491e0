{{ concept_shares() }}
