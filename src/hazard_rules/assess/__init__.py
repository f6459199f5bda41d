"""Assessment (督查考核): waivers, scorecards with 一票否优, 晾晒 rankings."""
