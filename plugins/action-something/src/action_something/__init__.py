"""Something-Something V1 (frames + CSV) and V2 (webm + JSON) for the action toolkit."""
