hw_pipe_reg.v
hw_valid_pipe.v
tiny_l0_fc1.v
tiny_l1_fc2.v
tiny_l2_cls.v
tiny_top.v
