"""Class statistics: pixel tallies, presence, class weights and their export."""
